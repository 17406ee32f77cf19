"""The dashboard: server-rendered pages in French at ``/tableau-de-bord`` (Jinja2
templates beside the router, no JavaScript), signed in with an API key."""
