"""A view that logs, for the logging tests."""

import logging

from django.http import HttpResponse
from django.urls import path

logger = logging.getLogger(__name__)


def log_something(request):
    logger.warning("something happened")
    return HttpResponse("ok")


urlpatterns = [path("log-something", log_something)]
