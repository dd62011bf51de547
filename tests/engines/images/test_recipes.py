"""Recipes and progress: pure, no root needed."""

from __future__ import annotations

import pytest

from cloudlet.engines.images import STANDARD, Progress, RecipeError, load_recipes
from cloudlet.engines.images.mmdebstrap import ProgressParser


def test_the_standard_families_share_one_base_and_differ_in_their_default_user():
    users = {name: r.default_user for name, r in STANDARD.items()}
    assert users == {"al2023": "ec2-user", "amzn2": "ec2-user", "ubuntu-22.04": "ubuntu",
                     "ubuntu-24.04": "ubuntu", "debian-12": "admin"}
    assert len({r.base_key() for r in STANDARD.values()}) == 1
    assert len({r.layer_key() for r in STANDARD.values()}) == 5
    assert "standing in for Amazon Linux 2023" in STANDARD["al2023"].description


def test_a_recipe_file_adds_images_with_extra_packages(tmp_path):
    path = tmp_path / "images.toml"
    path.write_text('[recipe.web]\nbase = "al2023"\npackages = ["nginx", "python3-psycopg2"]\n'
                    '[recipe.web-debug]\nbase = "web"\npackages = ["strace"]\ndefault_user = "dev"\n')
    recipes = load_recipes(path)
    web, debug = recipes["web"], recipes["web-debug"]
    assert web.default_user == "ec2-user" and web.packages == ("nginx", "python3-psycopg2")
    assert "nginx" in web.base_packages() and "openssh-server" in web.base_packages()
    assert web.base_key() != STANDARD["al2023"].base_key()  # its own cached build
    assert debug.default_user == "dev" and set(debug.packages) == {"nginx", "python3-psycopg2", "strace"}


@pytest.mark.parametrize("body, message", [
    ('[recipe.x]\nbase = "nope"\n', "unknown base"),
    ('[recipe.x]\npackages = ["bad name; rm -rf /"]\n', "Debian package names"),
    ('[recipe.x]\ndefault_user = "root:0"\n', "default_user"),
    ("[recipe.x\n", "images.toml"),
])
def test_bad_recipes_are_refused_with_the_reason(tmp_path, body, message):
    path = tmp_path / "images.toml"
    path.write_text(body)
    with pytest.raises(RecipeError, match=message):
        load_recipes(path)


def test_progress_counts_packages_from_mmdebstrap_output():
    seen: list[Progress] = []
    parser = ProgressParser("al2023", seen.append)
    lines = ["I: downloading packages with apt...",
             "0 upgraded, 3 newly installed, 0 to remove and 0 not upgraded.",
             "Unpacking base-files (12.4) ...", "Unpacking bash (5.2) ...",
             "Setting up base-files (12.4) ...",
             "0 upgraded, 2 newly installed, 0 to remove and 0 not upgraded.",
             "Unpacking sudo (1.9) ...", "Setting up sudo (1.9) ..."]
    for line in lines:
        parser.feed(line)
    assert [str(p) for p in seen] == [
        "building al2023: downloading 0/3", "building al2023: unpacking 1/3",
        "building al2023: unpacking 2/3", "building al2023: configuring 1/3",
        "building al2023: downloading 0/5", "building al2023: unpacking 3/5",
        "building al2023: configuring 2/5"]
