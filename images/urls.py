from rest_framework.routers import SimpleRouter

from images import views

router = SimpleRouter()
router.register("media", views.ImageViewSet, basename="image")

urlpatterns = router.urls
