"""The Python SDK (``textclf.Client``): the hosted platform's calls over textclf's backends.

``client`` holds the user-facing objects, ``local`` the embedded backend's files and processes,
``upload`` the dataset check, ``evaljob`` the evaluation process.
"""
