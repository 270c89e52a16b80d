from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render


def signup(request):
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()  # post_save creates the customer profile
        login(request, user)
        return redirect("profile")
    return render(request, "customers/signup.html", {"form": form})


@login_required(login_url="signup")
def profile(request):
    return render(request, "customers/profile.html", {"customer": request.user.customer})
