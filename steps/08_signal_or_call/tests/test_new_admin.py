import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["/admin/customers/customer/", "/admin/blog/blog/", "/admin/blog/comment/"]
)
def test_the_new_models_are_in_the_admin(admin_client, url):
    assert admin_client.get(url).status_code == 200
