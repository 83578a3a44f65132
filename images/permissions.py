"""Who may manage an image: its owner, or staff. Everyone else is answered 404 (the
queryset leaves their images out, see ``selectors.images_visible_to``); this object rule
holds even if a view's queryset were ever wider."""

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from images.models import Image


class IsOwnerOrStaff(permissions.BasePermission):
    message = "Only the image's owner or staff may do this."

    def has_object_permission(self, request: Request, view: APIView, obj: Image) -> bool:
        return bool(request.user.is_staff or obj.owner_id == request.user.pk)
