"""Object-level rules: who may change what. Visibility is the QuerySets' job."""

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView


class IsAuthorOrStaffOrReadOnly(permissions.BasePermission):
    """Anyone may read; only the object's author or staff may change it."""

    message = "Only the author or staff may change this."

    def has_object_permission(self, request: Request, view: APIView, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user.is_staff or obj.author_id == request.user.pk)


class IsStaffOrReadOnly(permissions.BasePermission):
    """Anyone may read; only staff may write."""

    message = "Only staff may change this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff)


class CommentPermission(permissions.BasePermission):
    """Comment authors edit and delete their comments; the post's author may delete
    comments on the post (moderation); staff may do anything."""

    message = "Only the comment's author, the post's author or staff may do this."

    def has_object_permission(self, request: Request, view: APIView, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if user.is_staff or obj.author_id == user.pk:
            return True
        return request.method == "DELETE" and obj.post.author_id == user.pk
