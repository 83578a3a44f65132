"""Server-rendered pages for readers and the writer pages (placeholder views)."""

from django.views.generic import TemplateView


class PlaceholderView(TemplateView):
    template_name = "web/placeholder.html"
