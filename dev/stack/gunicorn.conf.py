"""gunicorn's configuration for the stack (``dev/stack.sh``) and for
``make bench-load``, which run the same deployment:

    CKAN_INI=/etc/ckan/ckan.ini gunicorn -c gunicorn.conf.py --chdir dev/stack wsgi:application

Read from the environment: STACK_PORT (5050), STACK_WORKERS (4), STACK_LOG (the
access and error log; stderr when unset). STACK_CLOCK_OFFSET_SECONDS moves the
workers' clock (``make bench-load``'s clock-skew scenario only: an app server
whose NTP is off by that much); never set it on a real site.
"""
import datetime as _dt
import os

bind = f"127.0.0.1:{os.environ.get('STACK_PORT', '5050')}"
workers = int(os.environ.get("STACK_WORKERS", "4"))
timeout = 60
graceful_timeout = 10
accesslog = os.environ.get("STACK_LOG") or "-"
errorlog = os.environ.get("STACK_LOG") or "-"
# The worker's pid on every line: which worker served what.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms worker=%(p)s'


def post_fork(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    offset = float(os.environ.get("STACK_CLOCK_OFFSET_SECONDS") or 0)
    if offset:
        import time_machine  # only the clock-skew scenario needs it

        now = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=offset)
        time_machine.travel(now, tick=True).start()
