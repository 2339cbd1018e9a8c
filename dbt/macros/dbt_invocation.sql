{#- The one place the project's macros read dbt's internals about the invocation: publishing
    (publishing/), the row counts, the window of the tests and the `delivered` test. Each is pinned
    by a compile-level contract test (tests/definitions/test_dbt_internals.py): if dbt renames one
    (say the `event_time_start` key), that test fails, instead of builds quietly testing,
    counting or copying back all of history.

    - `flags.WHICH`: the command (build, run, retry, snapshot, test, compile, ...).
    - `flags.FULL_REFRESH`: --full-refresh.
    - `invocation_args_dict`: the --event-time-start/--event-time-end window (dbt's `flags` in
      Jinja lacks them), as 'YYYY-MM-DD HH:MM:SS', or none without a window. -#}
{% macro dbt_invocation() %}
    {%- set start, end = invocation_args_dict.get('event_time_start'), invocation_args_dict.get('event_time_end') -%}
    {{ return({
        'command': flags.WHICH,
        'builds_models': execute and flags.WHICH in ('build', 'run', 'retry'),
        'full_refresh': flags.FULL_REFRESH,
        'window_start': start.strftime('%Y-%m-%d %H:%M:%S') if start else none,
        'window_end': end.strftime('%Y-%m-%d %H:%M:%S') if end else none,
    }) }}
{% endmacro %}
