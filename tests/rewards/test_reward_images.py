"""Reward images: checked by their content (PNG, JPEG, WebP or GIF, at most 2 MB and
4000 × 4000 pixels), stored under the site's own name with a fresh key, and served by the
app itself — only from storage's rewards/ folder, with the right type, nosniff and a long
cache — so a self-hosted site needs nothing else and no image comes from another host.
"""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from communities.choices import Role
from rewards.models import Reward
from rewards.services import reward_create, reward_image_check
from tests.factories.communities import CommunityFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def image_upload(name: str = "prize.png", kind: str = "PNG", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(kind, **kwargs), content_type="image/png")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test stores its uploads in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def owner_client(organisation) -> Client:
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.OWNER).user)
    return client


def create(organisation, image, **overrides) -> Reward:
    fields = {"community": None, "kind": "perk", "name": "Mug", "cost": 100, "image": image}
    return reward_create(organisation=organisation, actor=None, **{**fields, **overrides})


# --- what is accepted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "extension"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif")]
)
def test_png_jpeg_webp_and_gif_are_accepted_under_the_extension_of_what_they_are(kind, extension):
    # given: an image of the kind, uploaded under a misleading name
    upload = image_upload(name="picture.bin", kind=kind)

    # when / then
    assert reward_image_check(upload=upload) == extension


def test_an_image_is_stored_under_the_sites_own_name_with_a_fresh_key(organisation, media_root):
    # given: a JPEG whose uploader called it "evil.html"
    upload = image_upload(name="../../evil.html", kind="JPEG")

    # when
    reward = create(organisation, upload)

    # then: the name is rewards/<organisation>/<reward>-<key>.jpg, and the file is there
    assert reward.image_key and len(reward.image_key) == 8
    assert reward.image.name == f"rewards/{organisation.pk}/{reward.pk}-{reward.image_key}.jpg"
    assert (media_root / reward.image.name).read_bytes()[:2] == b"\xff\xd8"


def test_a_photos_metadata_is_removed_and_the_photo_turned_upright(organisation, media_root):
    # given: a 30 × 10 JPEG whose EXIF names where it was taken and says "rotate 90°"
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    out = io.BytesIO()
    Image.new("RGB", (30, 10), (10, 120, 200)).save(out, format="JPEG", exif=exif.tobytes())
    upload = SimpleUploadedFile("photo.jpg", out.getvalue(), content_type="image/jpeg")

    # when
    reward = create(organisation, upload)

    # then: what members are served carries no EXIF and stands upright
    with Image.open(media_root / reward.image.name) as stored:
        assert dict(stored.getexif()) == {}
        assert stored.size == (10, 30)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"just some text, not a picture", "fake.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg"),
        (image_bytes("PNG")[:40], "truncated.png"),
        (image_bytes("BMP"), "bitmap.png"),
        (image_bytes("TIFF"), "scan.png"),
    ],
    ids=["text-renamed-png", "svg", "truncated-png", "bmp", "tiff"],
)
def test_anything_but_a_whole_png_jpeg_webp_or_gif_is_refused(content, name):
    # given: a file that is not an image we show, whatever its name says
    upload = SimpleUploadedFile(name, content, content_type="image/png")

    # when / then
    with pytest.raises(ValidationError) as refused:
        reward_image_check(upload=upload)
    assert refused.value.error_dict["image"][0].code == "not_image"


def test_an_image_over_the_size_limit_is_refused(settings):
    # given: a limit below the image's size
    settings.REWARD_IMAGE_MAX_BYTES = 50
    upload = image_upload(size=(64, 64))

    # when / then
    with pytest.raises(ValidationError) as refused:
        reward_image_check(upload=upload)
    assert refused.value.error_dict["image"][0].code == "too_large"


def test_an_image_wider_than_4000_pixels_is_refused():
    # given: a picture 4001 pixels wide (small in bytes)
    upload = image_upload(size=(4001, 10))

    # when / then
    with pytest.raises(ValidationError) as refused:
        reward_image_check(upload=upload)
    assert refused.value.error_dict["image"][0].code == "too_big"


def test_a_refused_image_writes_no_reward_and_no_file(organisation, media_root):
    # given: text renamed .png
    upload = SimpleUploadedFile("fake.png", b"not an image", content_type="image/png")

    # when
    with pytest.raises(ValidationError):
        create(organisation, upload)

    # then
    assert not Reward.objects.exists()
    assert not any(media_root.rglob("*.*"))


def test_the_staff_form_says_what_is_wrong_with_a_fake_image(owner_client, organisation):
    # given
    community = CommunityFactory(organisation=organisation)
    data = {"community": community.pk, "kind": "perk", "name": "Mug", "cost": "100"}
    data["image"] = SimpleUploadedFile("fake.png", b"hello", content_type="image/png")

    # when
    page = owner_client.post(reverse("staff:reward_create", args=[organisation.slug]), data)

    # then: the page again, the error under the image field, nothing saved
    assert page.status_code == 400
    assert "not an image we can show" in page.context["form"].errors["image"][0]
    assert not Reward.objects.exists()


# --- serving -------------------------------------------------------------------------------


def test_an_image_is_served_with_its_type_nosniff_and_a_long_cache(organisation):
    # given: a reward with a PNG
    reward = create(organisation, image_upload())

    # when
    response = Client().get(reward.image.url)

    # then: anyone may fetch it (members see it on the portal), as what it is
    assert reward.image.url.startswith("/media/rewards/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response["Cache-Control"]
    assert "max-age=31536000" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == reward.image.read()


@pytest.mark.parametrize(
    "name",
    [
        "1/99-deadbeef.png",  # no such file
        "../secret.png",  # out of the folder
        "1/../../settings.py",
        "1/x.html",  # a type it never stores
        "1/x.png/",
        "x.png",  # not in an organisation's folder
        "1/..%2f..%2fsecret.png",
    ],
)
def test_anything_but_a_stored_reward_image_answers_404(name):
    # given: files beside and inside the folder that are not reward images
    default_storage.save("secret.png", ContentFile(image_bytes()))
    default_storage.save("rewards/1/x.html", ContentFile(b"<script>alert(1)</script>"))

    # when
    response = Client().get(f"/media/rewards/{name}")

    # then
    assert response.status_code == 404


def test_images_answer_only_get_and_head(organisation):
    reward = create(organisation, image_upload())

    assert Client().head(reward.image.url).status_code == 200
    assert Client().post(reward.image.url).status_code == 405


def test_pages_may_show_images_from_this_site_only(owner_client, organisation):
    # given: a reward with an image in the catalogue
    create(organisation, image_upload())

    # when
    page = owner_client.get(reverse("staff:reward_list", args=[organisation.slug]))

    # then: the policy allows this site's images (and Bootstrap's data: icons), no other host
    policy = page["Content-Security-Policy"]
    img_src = next(d for d in policy.split(";") if d.strip().startswith("img-src"))
    assert img_src.split()[1:] == ["'self'", "data:"]
    assert 'src="/media/rewards/' in page.content.decode()
