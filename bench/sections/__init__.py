"""The benchmark sections of bench/run.py, one module per section or closely related pair.

``common`` holds what they share: the paths, the measurement of a fresh process, the landed
days, the environment and the plain dbt path. The Python each measurement runs in a fresh
process is in bench/scripts/.
"""
