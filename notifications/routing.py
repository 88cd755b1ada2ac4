from django.urls import path, re_path

from notifications.consumers import NotFoundConsumer, StreamConsumer

websocket_urlpatterns = [
    path("ws/v1/", StreamConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
