from ninja import Router

router = Router(tags=["药品（疫苗）追溯监管 trace"])
