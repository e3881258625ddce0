"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi`.

The access log drops client address, user agent, referrer, query and the exact time on the
routes respondents and kiosks use (config/accesslog.py). Override any of these on the
command line (e.g. `-w 8 -b 0.0.0.0:8000`).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
accesslog = "-"
logger_class = "config.accesslog.PrivateAccessLogger"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'
