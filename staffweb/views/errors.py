from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def not_found(request: HttpRequest) -> HttpResponse:
    """The staff pages' 404: the same for what does not exist and what the role may not see."""
    return render(request, "staffweb/404.html", {}, status=404)
