"""``python -m dataplatform.patches``: each patch, whether it fits the installed Dagster, and whether it is on."""

from dataplatform.patches import main

main()
