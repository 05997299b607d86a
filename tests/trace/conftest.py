import datetime
import pathlib

import pytest

from smartgov.accounts.models import Level
from smartgov.core.permissions import Role
from smartgov.trace import services
from tests import factories

EXAMPLES = pathlib.Path(__file__).parent / "gs1_examples"


@pytest.fixture
def regulator_dept(db):
    return factories.department("药品监督管理局", level=Level.PROVINCE)


@pytest.fixture
def supervisor(regulator_dept):
    return factories.user(Role.SUPERVISOR, department=regulator_dept)


@pytest.fixture
def officer(regulator_dept):
    return factories.user(Role.OFFICER, department=regulator_dept)


@pytest.fixture
def chain(supervisor, regulator_dept):
    """A manufacturer, a provincial CDC, a county CDC under it and a site under that; a vaccine product
    (GTIN and 药品标识码) and a batch."""
    mk = services.create_organisation
    maker = mk(actor=supervisor, name="示范生物制品有限公司", kind="manufacturer", department=regulator_dept,
               location_uri="urn:epc:id:sgln:6901234.00001.0", party_uri="urn:epc:id:pgln:6901234.00001")
    prov = mk(actor=supervisor, name="示范省疾控中心", kind="provincial_cdc", department=regulator_dept,
              location_uri="urn:epc:id:sgln:6901234.00002.0", party_uri="urn:epc:id:pgln:6901234.00002")
    county = mk(actor=supervisor, name="示范县疾控中心", kind="county_cdc", department=regulator_dept, parent=prov,
                location_uri="urn:epc:id:sgln:6901234.00003.0", party_uri="urn:epc:id:pgln:6901234.00003")
    site = mk(actor=supervisor, name="城关镇预防接种门诊", kind="site", department=regulator_dept, parent=county,
              location_uri="urn:epc:id:sgln:6901234.00004.0", party_uri="urn:epc:id:pgln:6901234.00004")
    product = services.create_product(actor=supervisor, department=regulator_dept, name="乙型肝炎疫苗",
                                      holder="示范生物制品有限公司", nmpa_code="8612345",
                                      gtin="06901234000016", dosage_form="注射剂", specification="0.5ml/支",
                                      manufacturer=maker)
    batch = services.create_batch(actor=supervisor, product=product, lot="202601A",
                                  production_date=datetime.date(2026, 1, 5), expiry_date=datetime.date(2028, 1, 4))
    return {"maker": maker, "prov": prov, "county": county, "site": site, "product": product, "batch": batch}
