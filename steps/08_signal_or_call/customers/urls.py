from django.contrib.auth import views as auth_views
from django.urls import path

from customers import views

login_view = auth_views.LoginView.as_view(template_name="customers/login.html")

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("profile/", views.profile, name="profile"),
    path("login/", login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
