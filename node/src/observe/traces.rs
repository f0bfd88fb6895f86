//! Optional OpenTelemetry traces, exported over OTLP/gRPC when the node is
//! started with `--otlp-endpoint` (off by default). Every call's `rpc` span
//! (see [`super::rpc`]) and the spans opened under it, in the coordinator
//! and in the partitions' threads, become spans of one trace; the service
//! is `kindred-node` and each span carries the node id.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

/// The exporter of a running node; shut it down to flush the last spans.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// An exporter to `endpoint` (for example `http://otel-collector:4317`)
    /// and the tracing layer that feeds it.
    pub fn start<S>(
        endpoint: &str,
        node_id: u64,
    ) -> anyhow::Result<(
        Traces,
        tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>,
    )>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| anyhow::anyhow!("otlp_endpoint {endpoint}: {e}"))?;
        let resource = Resource::builder()
            .with_service_name("kindred-node")
            .with_attribute(KeyValue::new("kindred.node_id", node_id as i64))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("kindred-node");
        let layer = tracing_opentelemetry::layer().with_tracer(tracer);
        Ok((Traces { provider }, layer))
    }

    /// Exports what is still buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: traces not all exported at shutdown: {e}");
        }
    }
}
