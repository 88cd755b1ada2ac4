"""The staff web app at /staff/: server-rendered pages with htmx on the same access functions, selectors
and services as the API."""
