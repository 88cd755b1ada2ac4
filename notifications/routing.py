from django.urls import path

from notifications.consumers import StreamConsumer

websocket_urlpatterns = [path("ws/v1/", StreamConsumer.as_asgi())]
