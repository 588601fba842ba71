"""Case, CaseComment and EmailMessage."""

from __future__ import annotations

from sfemu.model import ObjectDef, PicklistValue
from sfemu.objects.builders import (
    activity_children,
    boolean,
    datetime,
    email,
    make_object,
    owner,
    phone,
    picklist,
    ref,
    text,
    textarea,
    values,
)

CASE_STATUSES = (
    PicklistValue(value="New", label="New", default=True),
    PicklistValue(value="Working", label="Working"),
    PicklistValue(value="Escalated", label="Escalated"),
    PicklistValue(value="Closed", label="Closed", closed=True),
)

#: EmailMessage.Status: the stored value is a digit, the label says what it means.
EMAIL_STATUSES = (
    PicklistValue(value="0", label="New", default=True),
    PicklistValue(value="1", label="Read"),
    PicklistValue(value="2", label="Replied"),
    PicklistValue(value="3", label="Sent"),
    PicklistValue(value="4", label="Forwarded"),
    PicklistValue(value="5", label="Draft"),
)
EMAIL_DRAFT = "5"


def case() -> ObjectDef:
    return make_object(
        "Case",
        "Case",
        "Cases",
        "500",
        [
            text(
                "CaseNumber",
                "Case Number",
                30,
                nillable=False,
                createable=False,
                updateable=False,
                defaulted_on_create=True,
                auto_number=True,
                id_lookup=True,
                name_field=True,
                search_group="name",
            ),
            text("Subject", "Subject", 255),
            textarea("Description", "Description"),
            picklist("Status", "Status", CASE_STATUSES, nillable=False, restricted=True),
            boolean("IsClosed", "Closed", createable=False, updateable=False),
            datetime("ClosedDate", "Closed Date", createable=False, updateable=False),
            picklist("Origin", "Case Origin", values("Phone", "Email", "Web")),
            picklist(
                "Priority",
                "Priority",
                values("High", "Medium", "Low", default="Medium"),
                restricted=True,
            ),
            picklist(
                "Type",
                "Case Type",
                values("Mechanical", "Electrical", "Electronic", "Structural", "Other"),
            ),
            picklist(
                "Reason",
                "Case Reason",
                values(
                    "Installation",
                    "Equipment Complexity",
                    "Performance",
                    "Breakdown",
                    "Equipment Design",
                    "Feedback",
                    "Other",
                ),
            ),
            ref("ContactId", "Contact ID", ("Contact",), "Contact"),
            ref("AccountId", "Account ID", ("Account",), "Account"),
            ref("ParentId", "Parent Case ID", ("Case",), "Parent"),
            email("SuppliedEmail", "Web Email", updateable=False),
            text("SuppliedName", "Web Name", 80, updateable=False),
            text("SuppliedPhone", "Web Phone", 40, updateable=False),
            text("SuppliedCompany", "Web Company", 80, updateable=False),
            email("ContactEmail", "Contact Email", createable=False, updateable=False),
            phone("ContactPhone", "Contact Phone", createable=False, updateable=False),
            phone("ContactMobile", "Contact Mobile", createable=False, updateable=False),
            phone("ContactFax", "Contact Fax", createable=False, updateable=False),
            boolean("IsEscalated", "Escalated"),
            textarea("Comments", "Internal Comments", 4000),
            owner("Owner ID", ("User", "Group")),
        ],
        children=[
            ("CaseComments", "CaseComment", "ParentId"),
            ("EmailMessages", "EmailMessage", "ParentId"),
            *activity_children("WhatId"),
            ("Cases", "Case", "ParentId"),
        ],
    )


def case_comment() -> ObjectDef:
    return make_object(
        "CaseComment",
        "Case Comment",
        "Case Comments",
        "00a",
        [
            ref("ParentId", "Parent ID", ("Case",), "Parent", nillable=False, updateable=False),
            textarea("CommentBody", "Body", 4000),
            boolean("IsPublished", "Published"),
        ],
    )


def email_message() -> ObjectDef:
    return make_object(
        "EmailMessage",
        "Email Message",
        "Email Messages",
        "02s",
        [
            ref("ParentId", "Parent ID", ("Case",), "Parent"),
            ref(
                "RelatedToId",
                "Related To ID",
                ("Account", "Case", "Opportunity", "Lead", "Contact"),
                "RelatedTo",
            ),
            ref("ActivityId", "Activity ID", ("Task",), "Activity"),
            ref(
                "ReplyToEmailMessageId",
                "Email Message ID",
                ("EmailMessage",),
                "ReplyToEmailMessage",
            ),
            email("FromAddress", "From Address", 1000),
            text("FromName", "From Name", 1000),
            text("ToAddress", "To Address", 4000, search_group="email"),
            text("CcAddress", "CC Address", 4000, search_group="email"),
            text("BccAddress", "BCC Address", 4000, search_group="email"),
            text("Subject", "Subject", 3000, search_group="name"),
            textarea("TextBody", "Text Body"),
            textarea("HtmlBody", "HTML Body"),
            textarea("Headers", "Headers"),
            boolean("Incoming", "Is Incoming"),
            datetime("MessageDate", "Message Date"),
            picklist("Status", "Status", EMAIL_STATUSES, nillable=False, restricted=True),
            text("MessageIdentifier", "Message ID", 255),
            text("ThreadIdentifier", "Thread ID", 255),
            boolean("HasAttachment", "Has Attachment"),
            boolean("IsExternallyVisible", "Externally Visible"),
        ],
    )
