"""What the REST API (:mod:`adapter.api`) and the admin pages (:mod:`adapter.web`) share at the
HTTP edge, so that neither blueprint imports the other:

problems.py   RFC 9457 problem details for every error (one handler for the whole app)
resources.py  the settings, database and routes the app holds, and a transaction per request
views.py      the JSON shape of deliveries and deadlines, as the API and the pages show them
downloads.py  files offered for download by both (the receipt log's checkpoints)
"""
