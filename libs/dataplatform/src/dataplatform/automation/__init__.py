"""What starts a domain's day and what tells its owners: the trigger and the schedule
(``triggers``), the alerts (``alerts``), and their switch (``status``). It reads a domain's plan
(``dataplatform.dbt.plan``) and the calendar; the location puts them together."""
