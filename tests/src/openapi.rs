//! `docs/openapi.yaml`, generated: the webhook routes (`ingest::openapi`) and the read API's
//! (`api::openapi`) under one heading. `make openapi` writes it; a test checks the checked-in
//! file is what the code generates.

use utoipa::OpenApi;
use utoipa::openapi::server::{ServerBuilder, ServerVariableBuilder};
use utoipa::openapi::{InfoBuilder, OpenApiBuilder};

const DESCRIPTION: &str = "Webhooks into Journey, and the read API its dashboard uses. Every \
webhook is verified on its raw body before anything else; accepted events are queued (FIFO, one \
group per customer) before the response is sent. Errors are JSON: `{\"error\": {\"code\", \
\"message\", \"field\"}}`, where `field` names the header, query or body field at fault \
(`[3].score` for the fourth event of a batch).\n\nGenerated from the code (`make openapi`): the \
request and response types are the ones the handlers parse and answer with.";

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let aws = ServerBuilder::new()
        .url("https://{api}.execute-api.{region}.amazonaws.com")
        .parameter("api", ServerVariableBuilder::new().default_value("abc123"))
        .parameter(
            "region",
            ServerVariableBuilder::new().default_value("ap-northeast-2"),
        )
        .build();
    let local = ServerBuilder::new()
        .url("http://127.0.0.1:3000")
        .description(Some("the local stack"))
        .build();
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Journey API")
                .version("1.0")
                .description(Some(DESCRIPTION)),
        )
        .servers(Some([aws, local]))
        .build();
    doc.merge(ingest::openapi::Webhooks::openapi());
    doc.merge(api::openapi::ReadApi::openapi());
    doc
}

/// The document as `docs/openapi.yaml` holds it.
pub fn yaml() -> Result<String, String> {
    document().to_yaml().map_err(|e| e.to_string())
}
