"""A realistic vaccine chain, generated as EPCIS documents and captured through the capture service:
manufacturer → provincial CDC → county CDCs → vaccination sites → vaccinees.

Doses carry NMPA 20-digit codes issued by the code-issuing service; 10 doses to a box (SGTIN at the box
GTIN), 20 boxes to a case and 10 cases to a pallet (SSCC). Pallets travel to the provincial CDC in
refrigerated trucks (``transporting`` events with the truck's temperature readings), are unpacked there,
cases go to county CDCs, are unpacked, boxes go to sites, and doses are given (``dispensing``).
Used by ``smartgov trace simulate``, the demo and the benchmark.
"""

import datetime
import random
from dataclasses import dataclass, field

import orjson
from django.utils import timezone

from smartgov.core.permissions import system_actor

from . import codes, services
from .models import Batch, CodeIssue, CodeScheme, Logger, LoggerKind, Organisation, OrgKind, Product

PREFIX = "6901234"  # GS1 China company prefix used for the simulated manufacturer
DOSES_PER_BOX, BOXES_PER_CASE, CASES_PER_PALLET = 10, 20, 10
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
TZ = "+08:00"
CN = datetime.timezone(datetime.timedelta(hours=8))


@dataclass
class Network:
    department: object
    maker: Organisation
    province: Organisation
    counties: list
    sites: list
    product: Product
    trucks: list
    fridges: dict = field(default_factory=dict)


def _org(department, name, kind, n, parent=None, lat=None, lng=None):
    loc = f"urn:epc:id:sgln:{PREFIX}.{n:05d}.0"
    existing = Organisation.objects.filter(location_uri=codes.canonical_dl(loc)).first()
    if existing:
        return existing
    return services.create_organisation(actor=system_actor("trace.sim"), name=name, kind=kind, department=department, location_uri=loc,
                                        party_uri=f"urn:epc:id:pgln:{PREFIX}.{n:05d}", parent=parent,
                                        latitude=lat, longitude=lng)


COUNTIES = [("城关县", 34.26, 108.94), ("临河县", 34.50, 109.50), ("北山县", 34.90, 108.60), ("南湖县", 33.80, 109.10),
            ("东坪县", 34.40, 110.00), ("西岭县", 34.10, 108.20)]


def build_network(department, *, counties: int = 4, sites_per_county: int = 3) -> Network:
    """The parties, locations, product and loggers of the simulated chain (safe to call twice)."""
    maker = _org(department, "示范生物制品有限公司", OrgKind.MANUFACTURER, 1, lat=34.34, lng=108.70)
    province = _org(department, "示范省疾病预防控制中心", OrgKind.PROVINCIAL_CDC, 2, lat=34.27, lng=108.95)
    county_orgs, sites = [], []
    for i in range(counties):
        name, lat, lng = COUNTIES[i % len(COUNTIES)]
        suffix = "" if i < len(COUNTIES) else str(i)
        county = _org(department, f"{name}{suffix}疾病预防控制中心", OrgKind.COUNTY_CDC, 10 + i, parent=province,
                      lat=lat, lng=lng)
        county_orgs.append(county)
        for j in range(sites_per_county):
            sites.append(_org(department, f"{name}{suffix}第{j + 1}预防接种门诊", OrgKind.SITE, 100 + i * 20 + j,
                              parent=county, lat=lat + 0.02 * (j + 1), lng=lng + 0.02 * (j + 1)))
    gtin_body = "0" + PREFIX + "00001"
    product = Product.objects.filter(nmpa_code="8612345").first() or services.create_product(
        actor=system_actor("trace.sim"), department=department, name="乙型肝炎疫苗（重组酵母）", holder="示范生物制品有限公司",
        nmpa_code="8612345", gtin=gtin_body + codes.gs1_check_digit(gtin_body), dosage_form="注射剂",
        specification="10μg/0.5ml/支", manufacturer=maker)
    trucks = []
    for i in range(2):
        device = f"urn:epc:id:giai:{PREFIX}.T{i + 1}"
        trucks.append(Logger.objects.filter(device_id=codes.canonical_dl(device)).first() or services.register_logger(
            actor=system_actor("trace.sim"), organisation=province if i else maker, kind=LoggerKind.VEHICLE,
            name=f"冷藏车 陕A·{i + 1}2345", device_id=device, location_uri=device, product=product))
    net = Network(department, maker, province, county_orgs, sites, product, trucks)
    for org in [province, *county_orgs, *sites]:
        device = f"urn:epc:id:giai:{PREFIX}.F{org.pk}"
        net.fridges[org.pk] = Logger.objects.filter(device_id=codes.canonical_dl(device)).first() or \
            services.register_logger(actor=system_actor("trace.sim"), organisation=org, kind=LoggerKind.STORAGE, name=f"{org.name} 冷库",
                                     device_id=device, location_uri=org.location_uri, product=product)
    return net


def make_batch(net: Network, lot: str, produced: datetime.date, *, doses: int) -> tuple[Batch, CodeIssue]:
    batch = Batch.objects.filter(product=net.product, lot=lot).first() or services.create_batch(
        actor=system_actor("trace.sim"), product=net.product, lot=lot, production_date=produced,
        expiry_date=produced + datetime.timedelta(days=730))
    issue = batch.code_issues.first() or services.issue_codes(actor=system_actor("trace.sim"), organisation=net.maker, batch=batch,
                                                              count=doses, scheme=CodeScheme.NMPA)
    return batch, issue


def _t(dt: datetime.datetime) -> str:
    return dt.astimezone(CN).isoformat(timespec="milliseconds")


def _doc(events: list) -> bytes:
    return orjson.dumps({"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
                         "creationDate": _t(timezone.now()), "epcisBody": {"eventList": events}})


def _ship(epcs, at, src: Organisation, dst: Organisation, step="shipping"):
    ev = {"type": "ObjectEvent", "eventTime": _t(at), "eventTimeZoneOffset": TZ, "epcList": epcs,
          "action": "OBSERVE", "bizStep": step, "disposition": "in_transit" if step == "shipping" else "in_progress",
          "readPoint": {"id": (src if step == "shipping" else dst).location_uri},
          "sourceList": [{"type": "owning_party", "source": src.party_uri},
                         {"type": "location", "source": src.location_uri}],
          "destinationList": [{"type": "owning_party", "destination": dst.party_uri},
                              {"type": "location", "destination": dst.location_uri}]}
    if step == "receiving":
        ev["bizLocation"] = {"id": dst.location_uri}
    return ev


def _transport(epcs, at, truck: Logger, celsius: list[float]):
    """A ``transporting`` event from the truck with its temperature readings (sensorElementList)."""
    return {"type": "ObjectEvent", "eventTime": _t(at), "eventTimeZoneOffset": TZ, "epcList": epcs,
            "action": "OBSERVE", "bizStep": "transporting", "disposition": "in_transit",
            "readPoint": {"id": truck.location_uri},
            "sensorElementList": [{"sensorMetadata": {"deviceID": truck.device_id},
                                   "sensorReport": [{"type": "Temperature", "value": c, "uom": "CEL",
                                                     "time": _t(at + datetime.timedelta(minutes=30 * k))}
                                                    for k, c in enumerate(celsius)]}]}


def _agg(parent, children, at, org: Organisation, action="ADD"):
    ev = {"type": "AggregationEvent", "eventTime": _t(at), "eventTimeZoneOffset": TZ, "parentID": parent,
          "childEPCs": children, "action": action, "bizStep": "packing" if action == "ADD" else "unpacking",
          "disposition": "in_progress", "readPoint": {"id": org.location_uri}, "bizLocation": {"id": org.location_uri}}
    return ev


@dataclass
class Plan:
    """The documents of one batch's journey, in capture order: (capturing organisation, bytes, epc-events)."""

    documents: list = field(default_factory=list)
    doses: list = field(default_factory=list)
    administered: list = field(default_factory=list)  # (epc, site, time)
    stocked_sites: list = field(default_factory=list)  # sites that received boxes
    epc_events: int = 0

    def add(self, org, events):
        if events:
            n = sum(len(e.get("epcList", ())) + len(e.get("childEPCs", ())) + (1 if "parentID" in e else 0)
                    for e in events)
            self.documents.append((org, _doc(events), n))
            self.epc_events += n


def plan_batch(net: Network, batch: Batch, issue: CodeIssue, *, start: datetime.datetime, seq: int,
               administer: float = 0.01, seed: int = 7, per_doc: int = 5000) -> Plan:
    """Generate the whole journey of one batch as EPCIS documents (not yet captured)."""
    rnd = random.Random(seed + seq)
    plan = Plan()
    doses = list(services.issued_codes(issue))
    plan.doses = doses
    maker = net.maker
    box_gtin_body = "1" + PREFIX + "00001"
    n_boxes = (len(doses) + DOSES_PER_BOX - 1) // DOSES_PER_BOX
    box_base = seq * 10_000_000
    boxes = [f"urn:epc:id:sgtin:{PREFIX}.100001.{box_base + i}" for i in range(n_boxes)]
    assert codes.urn_to_dl(boxes[0]).startswith(f"{codes.DL_ROOT}/01/{box_gtin_body}")
    n_cases = (n_boxes + BOXES_PER_CASE - 1) // BOXES_PER_CASE
    cases = [codes.sscc_urn(PREFIX, "1", seq * 1_000_000 + i) for i in range(n_cases)]
    n_pallets = (n_cases + CASES_PER_PALLET - 1) // CASES_PER_PALLET
    pallets = [codes.sscc_urn(PREFIX, "2", seq * 100_000 + i) for i in range(n_pallets)]
    t = start
    # 1. commissioning (赋码激活) with lot and expiry
    lot_ilmd = {"cbvmda:lotNumber": batch.lot, "cbvmda:itemExpirationDate": batch.expiry_date.isoformat()}
    events = []
    for i in range(0, len(doses), 1000):
        events.append({"type": "ObjectEvent", "eventTime": _t(t + datetime.timedelta(seconds=i // 1000)),
                       "eventTimeZoneOffset": TZ, "epcList": doses[i:i + 1000], "action": "ADD",
                       "bizStep": "commissioning", "disposition": "active", "readPoint": {"id": maker.location_uri},
                       "bizLocation": {"id": maker.location_uri}, "ilmd": lot_ilmd})
        if len(events) >= 100:
            plan.add(maker, events)
            events = []
    plan.add(maker, events)
    # 2. packing: doses → boxes → cases → pallets
    t += datetime.timedelta(hours=2)
    for parents, children, size in ((boxes, doses, DOSES_PER_BOX), (cases, boxes, BOXES_PER_CASE),
                                   (pallets, cases, CASES_PER_PALLET)):
        events = []
        for i, parent in enumerate(parents):
            events.append(_agg(parent, children[i * size:(i + 1) * size], t + datetime.timedelta(seconds=i % 3600),
                               maker))
            if len(events) >= per_doc:
                plan.add(maker, events)
                events = []
        plan.add(maker, events)
        t += datetime.timedelta(hours=1)
    # 3. manufacturer → provincial CDC by truck (with readings), received; pallets unpacked
    t += datetime.timedelta(hours=12)
    truck = net.trucks[0]
    plan.add(maker, [_ship(pallets, t, maker, net.province),
                     _transport(pallets, t + datetime.timedelta(hours=1), truck,
                                [round(rnd.uniform(3.5, 6.5), 1) for _ in range(8)])])
    t += datetime.timedelta(hours=6)
    t_unpack = t + datetime.timedelta(days=1)
    plan.add(net.province, [_ship(pallets, t, maker, net.province, step="receiving"),
                            *[_agg(p, [], t_unpack, net.province, action="DELETE") for p in pallets]])
    # 4. cases to county CDCs (round robin) — one document from the provincial CDC, then one per county
    t = t_unpack + datetime.timedelta(days=1)
    by_county = {c.pk: [] for c in net.counties}
    for i, case in enumerate(cases):
        by_county[net.counties[(i + seq) % len(net.counties)].pk].append(case)  # rotate across batches
    truck2 = net.trucks[1]
    shipped, received = [], {}
    for county in net.counties:
        mine = by_county[county.pk]
        if mine:
            shipped += [_ship(mine, t, net.province, county),
                        _transport(mine, t + datetime.timedelta(hours=1), truck2,
                                   [round(rnd.uniform(3.0, 7.0), 1) for _ in range(4)])]
            received[county.pk] = [_ship(mine, t + datetime.timedelta(hours=4), net.province, county, step="receiving"),
                                   *[_agg(c, [], t + datetime.timedelta(hours=20), county, action="DELETE")
                                     for c in mine]]
    plan.add(net.province, shipped)
    for county in net.counties:
        plan.add(county, received.get(county.pk, []))
    # 5. boxes to sites: one document per county (its shipments), one per site (receipt and 接种)
    t += datetime.timedelta(days=2)
    sites_of = {c.pk: [s for s in net.sites if s.parent_id == c.pk] for c in net.counties}
    box_index = {b: i for i, b in enumerate(boxes)}
    at_site = []
    for county in net.counties:
        county_boxes = _boxes_of_cases(by_county[county.pk], cases, boxes)
        sites = sites_of[county.pk] or [county]
        per_site = {s.pk: [] for s in sites}
        for i, b in enumerate(county_boxes):
            per_site[sites[i % len(sites)].pk].append(b)
        plan.add(county, [_ship(per_site[s.pk], t, county, s) for s in sites if per_site[s.pk]])
        for site in sites:
            mine = per_site[site.pk]
            if not mine:
                continue
            plan.stocked_sites.append(site)
            events = [_ship(mine, t + datetime.timedelta(hours=3), county, site, step="receiving")]
            for b in mine:
                if rnd.random() < administer * DOSES_PER_BOX:
                    dose = doses[box_index[b] * DOSES_PER_BOX]
                    when = t + datetime.timedelta(days=1, minutes=len(events))
                    events.append({"type": "ObjectEvent", "eventTime": _t(when), "eventTimeZoneOffset": TZ,
                                   "epcList": [dose], "action": "OBSERVE", "bizStep": "dispensing",
                                   "disposition": "dispensed", "readPoint": {"id": site.location_uri},
                                   "bizLocation": {"id": site.location_uri}})
                    plan.administered.append((dose, site, when))
            at_site.append((site, events))
    for site, events in at_site:
        for i in range(0, len(events), per_doc * 5):
            plan.add(site, events[i:i + per_doc * 5])
    return plan


def _boxes_of_cases(mine, cases, boxes):
    index = {c: i for i, c in enumerate(cases)}
    out = []
    for case in mine:
        i = index[case]
        out.extend(boxes[i * BOXES_PER_CASE:(i + 1) * BOXES_PER_CASE])
    return out


def capture_plan(plan: Plan, *, progress=None) -> int:
    """Capture every document of the plan through the capture service (as each party's system would)."""
    stored = 0
    for org, body, n in plan.documents:
        job = services.capture_epcis_document(actor=system_actor("trace.sim"), organisation=org, chunks=body)
        stored += job.epc_events
        if progress:
            progress(n)
    return stored
