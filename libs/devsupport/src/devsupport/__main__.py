"""``python -m devsupport new-domain NAME | remove-example | list locations``: the workspace's commands
(devsupport.workspace), as `python3 tasks.py` runs them."""

from devsupport.workspace import main

main()
