"""The dbt op reads dbt's events ahead of the step (dataplatform.dbt.op.read_ahead): a writer of more
than a pipe's worth of output is never held up by a slow reader, and its events and error arrive as
they were made."""

import subprocess
import sys
import time

import pytest

from dataplatform.dbt.op import read_ahead

# Like dbt's JSON log: 2,000 lines of about 1 KB (a domain's build writes ~120 KB), then its end.
WRITER = "import sys, time\nfor i in range(2000): print(f'{i:04d}' + 'x' * 1000, flush=True)\nprint(time.time())"


def lines_of(process: subprocess.Popen):
    with process.stdout:
        yield from process.stdout


@pytest.mark.parametrize("ahead", [False, True])
def test_a_writer_of_two_megabytes_ends_before_a_slow_reader_only_when_read_ahead(ahead):
    process = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE, text=True)
    lines = read_ahead(lines_of(process)) if ahead else lines_of(process)
    received = []
    for line in lines:
        received.append(line)
        if len(received) == 1:
            time.sleep(1)  # the step writing its first events to the instance
    process.wait()
    writer_ended, reader_ended = float(received[-1]), time.time()
    assert [line[:4] for line in received[:-1]] == [f"{i:04d}" for i in range(2000)]
    # Held up by the reader, the writer ends after its pause; read ahead, a second before the reader.
    assert (reader_ended - writer_ended > 0.5) is ahead


def test_an_error_of_the_events_is_raised_where_they_are_read_after_the_events_before_it():
    def events():
        yield from (1, 2)
        raise RuntimeError("dbt failed")

    received = []
    with pytest.raises(RuntimeError, match="dbt failed"):
        for event in read_ahead(events()):
            received.append(event)
    assert received == [1, 2]
