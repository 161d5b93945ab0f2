"""The registry is complete and speaks one training-set vocabulary: every row has authors,
a BibTeX entry, a licence and known training sets; the admin refuses a second spelling
of a set; the filter lists each set once."""

import html
import re

import pytest
from django.contrib.auth.models import User

from leaderboard_app.filters import ModelFilterForm
from models_app.models import MLIP
from models_app.training_sets import TRAINING_SETS, canonical_training_set
from tests.models_app.test_admin import add_form

pytestmark = pytest.mark.django_db


def one_bibtex_entry(text: str) -> bool:
    """One ``@type{key, ...}`` entry with balanced braces, its title, authors and a DOI."""
    head = re.match(r"\s*@(article|misc|inproceedings)\{[a-z0-9]+,\n", text)
    depth, closed_at = 0, None
    for i, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and char == "}":
            closed_at = i
            break
    return bool(
        head
        and closed_at == len(text.rstrip()) - 1
        and re.search(r"\n\s*title = \{", text)
        and re.search(r"\n\s*author = \{", text)
        and re.search(r"\n\s*doi = \{10\.\d{4,5}/\S+\}", text)
    )


def test_every_registered_model_has_a_complete_card(seeded):
    models = list(MLIP.objects.all())
    assert len(models) == 19
    for model in models:
        assert model.authors and model.license, model.name
        assert one_bibtex_entry(model.bibtex), model.name
        assert set(model.training_datasets) <= set(TRAINING_SETS), model.name
    assert MLIP.objects.get(name="EMT").baseline
    assert not MLIP.objects.filter(baseline=True).exclude(name="EMT").exists()
    counted = {m.name: m.parameter_count for m in models if m.parameter_count}
    # As Matbench Discovery lists them: CHGNet 0.3.0 and SevenNet-0 by their own count.
    assert (counted["CHGNet"], counted["SevenNet-0"]) == (412_525, 842_440)


def test_the_training_set_filter_lists_each_set_once(seeded):
    form = ModelFilterForm({}, models=list(MLIP.objects.all()))
    names = [value for value, _ in form.fields["dataset"].choices if value]
    assert names == sorted(set(names))
    assert "MPtrj" in names and "MPTrj" not in names


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("MPTrj", "write 'MPtrj', not 'MPTrj'"),
        ("omat-24", "write 'OMat24', not 'omat-24'"),
        ("MyData", "unknown training set 'MyData'"),
        ("MPtrj, MPtrj", "a training set is listed twice"),
    ],
)
def test_the_admin_refuses_a_training_set_outside_the_vocabulary(client, seeded, typed, message):
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "pw"))
    response = client.post(
        "/admin/models_app/mlip/add/", add_form(name="EMT-2", family="emt", checkpoint="",
                                                calculator_kwargs="{}", training_datasets=typed)
    )  # fmt: skip
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not MLIP.objects.filter(name="EMT-2").exists()


def test_spellings_fold_to_the_vocabulary():
    assert canonical_training_set("mptrj") == "MPtrj"
    assert canonical_training_set("MatPES_PBE") == "MatPES-PBE"
    assert canonical_training_set("nothing") is None
