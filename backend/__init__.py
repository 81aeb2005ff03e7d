"""The Django project. The Celery app lives in backend.celery and is imported where tasks are defined or sent, not
here: web processes that send no task never load Celery (about 20 MiB each; bench/README.md, "Complaints")."""
