"""The ``wenzheng`` command line (``wenzheng = "bot.cli:main"``, also ``python -m bot``).

One module per command family: ``main`` (serve, db, check-config and the parser), ``staff``,
``report``, ``model`` (with ``model_training``, the only place scikit-learn is imported) and
``runner`` (the database runner and table printing they share). The service never imports them.
"""

from bot.cli.main import main

__all__ = ["main"]
