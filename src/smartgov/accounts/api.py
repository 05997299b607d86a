from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.pagination import paginate

from smartgov.core.pagination import PageNumber

from . import selectors, services
from .models import Department
from .schemas import DepartmentIn, DepartmentOut, PersonalDataOut, UserIn, UserOut

router = Router(tags=["账号与部门 accounts"])


@router.get("/me", response=UserOut, summary="当前用户")
def me(request):
    return request.auth


@router.get("/departments", response=list[DepartmentOut], summary="部门列表（按权限范围）")
@paginate(PageNumber)
def list_departments(request):
    return selectors.departments_for(request.auth)


@router.post("/departments", response={201: DepartmentOut}, summary="新建部门")
def create_department(request, payload: DepartmentIn):
    parent = get_object_or_404(Department, pk=payload.parent_id) if payload.parent_id else None
    dept = services.create_department(actor=request.auth, name=payload.name, code=payload.code,
                                      level=payload.level, parent=parent, uscc=payload.uscc,
                                      region_code=payload.region_code)
    return Status(201, dept)


@router.get("/users", response=list[UserOut], summary="用户列表（本部门范围，个人信息脱敏）")
@paginate(PageNumber)
def list_users(request):
    return selectors.users_for(request.auth)


@router.get("/users/{user_id}", response=UserOut, summary="用户详情")
def get_user(request, user_id: int):
    return selectors.get_user_for(request.auth, user_id)


@router.post("/users", response={201: UserOut}, summary="新建用户")
def create_user(request, payload: UserIn):
    dept = get_object_or_404(Department, pk=payload.department_id) if payload.department_id else None
    user = services.create_user(actor=request.auth, username=payload.username, password=payload.password,
                                role=payload.role, name=payload.name, department=dept,
                                id_number=payload.id_number, phone=payload.phone)
    return Status(201, user)


@router.post("/users/{user_id}/personal-data", response=PersonalDataOut,
             summary="查看完整个人信息（留审计记录）")
def reveal_personal_data(request, user_id: int):
    target = selectors.get_user_for(request.auth, user_id)
    return services.reveal_personal_data(actor=request.auth, user=target)


@router.post("/users/{user_id}/unlock", response=UserOut, summary="解除锁定（安全管理员）")
def unlock_user(request, user_id: int):
    target = selectors.get_user_for(request.auth, user_id)
    return services.unlock_user(actor=request.auth, user=target)
