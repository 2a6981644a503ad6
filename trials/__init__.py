import logging

# A library logs; the application (the CLI's main, app.py) decides where it goes.
logging.getLogger(__name__).addHandler(logging.NullHandler())
