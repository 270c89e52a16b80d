"""The pages learners click, in a real browser: headless Chromium against a live server.

Run with `make test-browser`; plain `make test` leaves these out (marker `browser`).
"""

import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from blog.models import Comment
from customers.models import Customer
from orders.models import Order
from products.models import Product

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless, and quiet: no connections to update or sync services.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium`")
    # Playwright's sync API keeps an event loop running in this thread for the whole
    # session; the ORM calls of the tests (and of the database teardown) stay synchronous.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
            )
            yield browser
            browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"Screenshots of the final pages: {folder}")
    return folder


@pytest.fixture
def page(chromium, screenshots, request):
    context = chromium.new_context()
    page = context.new_page()
    yield page
    page.screenshot(path=screenshots / f"{request.node.name}.png", full_page=True)
    print(f"Screenshot: {screenshots / request.node.name}.png")
    context.close()


def test_confirm_buttons_update_the_stock_and_never_confirm_twice(live_server, page):
    call_command("loaddata", "demo", verbosity=0)
    page.goto(f"{live_server.url}/orders/")
    mug_stock = page.locator("#product-3 .stock")
    expect(mug_stock).to_have_text("3")

    page.locator("#order-3 button", has_text="Confirm").click()
    expect(page.locator(".messages .success")).to_have_text("Order 3 confirmed successfully.")
    expect(mug_stock).to_have_text("1")
    expect(page.locator("#order-3 .status")).to_have_text("Confirmed")

    page.locator("#order-4 button", has_text="Confirm").click()
    expect(page.locator(".messages .error")).to_contain_text("not enough Ceramic mug in stock")
    expect(mug_stock).to_have_text("1")

    page.reload()
    expect(mug_stock).to_have_text("1")
    expect(page.locator("#order-4 button")).to_have_text("Confirm")
    assert Product.objects.get(pk=3).quantity == 1
    assert list(
        Order.objects.filter(product_id=3, confirmed=True).values_list("pk", flat=True)
    ) == [3]


def sign_up(page, live_server, password, confirmation):
    page.goto(f"{live_server.url}/signup/")
    page.fill("#id_username", "lin")
    page.fill("#id_password1", password)
    page.fill("#id_password2", confirmation)
    page.get_by_role("button", name="Sign up").click()


def test_signup_with_mismatched_passwords_shows_errors_and_saves_nothing(live_server, page):
    sign_up(page, live_server, "brew-94-degrees", "brew-92-degrees")

    expect(page.locator("#signup .errorlist")).to_contain_text("didn’t match")
    assert not get_user_model().objects.exists()


def test_signup_lands_on_the_profile_the_signal_created(live_server, page):
    sign_up(page, live_server, "brew-94-degrees", "brew-94-degrees")

    expect(page.locator("h1")).to_have_text("Welcome, lin")
    assert page.url == f"{live_server.url}/profile/"
    assert Customer.objects.filter(user__username="lin").count() == 1
    assert Customer.objects.count() == 1


def write_comment(page, live_server, body):
    page.goto(f"{live_server.url}/blog/1/")
    page.fill("#id_name", "Lin")
    page.fill("#id_email", "lin@example.com")
    page.fill("#id_body", body)
    page.get_by_role("button", name="Post comment").click()


def test_an_empty_comment_shows_errors_and_saves_nothing(live_server, page, mailoutbox):
    call_command("loaddata", "demo", verbosity=0)

    write_comment(page, live_server, "   ")  # passes the browser's check, not Django's

    expect(page.locator("#comment-form .errorlist")).to_have_text("This field is required.")
    assert Comment.objects.count() == 1  # the demo's own comment
    assert mailoutbox == []


def test_a_comment_is_listed_at_once_and_the_worker_emails_the_author(
    live_server, page, mailoutbox, run_worker
):
    call_command("loaddata", "demo", verbosity=0)

    write_comment(page, live_server, "Tried 92 degrees, lovely.")

    expect(page.locator(".messages .success")).to_have_text("Thank you, your comment is published.")
    expect(page.locator("#comments .comment").last).to_contain_text("Tried 92 degrees, lovely.")
    assert Comment.objects.count() == 2
    assert mailoutbox == [], "the page waited for the email"

    run_worker()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["admin@example.com"]
    assert "Tried 92 degrees, lovely." in mailoutbox[0].body


ADMIN_PASSWORD = "a long admin pass phrase"


def log_in_to_the_admin(page, live_server):
    get_user_model().objects.create_superuser("boss", password=ADMIN_PASSWORD)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()


def png_file(folder, name):
    from PIL import Image

    path = folder / name
    Image.new("RGB", (8, 8), "teal").save(path)
    return path


def test_tags_and_an_image_set_in_the_admin_show_on_the_product_list(
    live_server, page, media_root, tmp_path
):
    call_command("loaddata", "demo", verbosity=0)
    log_in_to_the_admin(page, live_server)

    page.goto(f"{live_server.url}/admin/products/product/2/change/")
    page.select_option("#id_tags", label="gifts")  # was coffee and gifts
    page.set_input_files("#id_image", png_file(tmp_path, "kettle.png"))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")

    page.goto(f"{live_server.url}/products/")
    expect(page.locator("#tags")).to_contain_text("gifts (2)")
    expect(page.locator("#tags")).to_contain_text("coffee (1)")
    expect(page.locator("#product-2 img")).to_have_attribute("src", "/media/products/kettle.png")
    page.get_by_role("link", name="coffee (1)").click()
    expect(page.locator("#products li")).to_have_count(1)
    expect(page.locator("#products li")).to_contain_text("Espresso beans")
    assert (media_root / "products" / "kettle.png").is_file()


def test_deleting_a_product_in_the_admin_lists_its_orders_and_removes_its_image(
    live_server, page, media_root, tmp_path
):
    call_command("loaddata", "demo", verbosity=0)
    log_in_to_the_admin(page, live_server)
    page.goto(f"{live_server.url}/admin/products/product/3/change/")
    page.set_input_files("#id_image", png_file(tmp_path, "mug.png"))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert (media_root / "products" / "mug.png").is_file()

    page.goto(f"{live_server.url}/admin/products/product/3/delete/")
    expect(page.locator("#content")).to_contain_text("2 x Ceramic mug")
    page.get_by_role("button", name="Yes, I’m sure").click()

    expect(page.locator(".messagelist .success")).to_contain_text("was deleted successfully")
    assert not Product.objects.filter(pk=3).exists()
    assert not Order.objects.filter(product_id=3).exists()
    assert not (media_root / "products" / "mug.png").exists()


def test_a_failed_then_a_good_login_are_both_in_the_audit_log(live_server, page):
    from accounts.models import LoginEvent

    get_user_model().objects.create_user("lin", password="brew-94-degrees")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "lin")
    page.fill("#id_password", "brew-92-degrees")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login .errorlist")).to_contain_text("enter a correct username")

    page.fill("#id_password", "brew-94-degrees")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Welcome, lin")
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("h1")).to_have_text("Products")

    kinds = LoginEvent.objects.order_by("pk").values_list("kind", "username", "ip_address")
    assert list(kinds) == [
        ("login_failed", "lin", "127.0.0.1"),
        ("logged_in", "lin", "127.0.0.1"),
        ("logged_out", "lin", "127.0.0.1"),
    ]


def test_a_confirmation_on_the_page_lands_in_the_sales_log(live_server, page):
    call_command("loaddata", "demo", verbosity=0)
    page.goto(f"{live_server.url}/orders/")
    page.locator("#order-3 button", has_text="Confirm").click()
    expect(page.locator(".messages .success")).to_have_text("Order 3 confirmed successfully.")

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    log_in_to_the_admin(page, live_server)
    page.goto(f"{live_server.url}/admin/sales/sale/")

    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text("Ceramic mug")


def test_the_admin_confirms_with_its_action_and_with_the_order_s_button(live_server, page):
    call_command("loaddata", "demo", verbosity=0)
    log_in_to_the_admin(page, live_server)

    page.goto(f"{live_server.url}/admin/orders/order/")
    page.locator("input[name=_selected_action][value='2']").check()
    page.select_option("select[name=action]", "confirm_orders")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist .success")).to_have_text("Order 2 confirmed.")

    page.goto(f"{live_server.url}/admin/orders/order/3/change/")
    page.get_by_role("button", name="Confirm this order").click()
    expect(page.locator(".messagelist .success")).to_have_text("Order 3 confirmed.")
    expect(page.get_by_role("button", name="Confirm this order")).to_have_count(0)
    page.goto(f"{live_server.url}/admin/orders/order/4/change/")
    page.get_by_role("button", name="Confirm this order").click()
    expect(page.locator(".messagelist .error")).to_contain_text("Order 4 was not confirmed")

    confirmed = Order.objects.filter(confirmed=True).order_by("pk").values_list("pk", flat=True)
    assert list(confirmed) == [1, 2, 3]
    assert Product.objects.get(pk=3).quantity == 1
