"""The step's own URLs, and the toolbar's."""

from debug_toolbar.toolbar import debug_toolbar_urls

from my_shop.urls import urlpatterns as step_urlpatterns

urlpatterns = [*step_urlpatterns, *debug_toolbar_urls()]
