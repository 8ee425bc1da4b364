use instrument_errors::instrument_errors;

// `metric_attributes` is a list of `"key" = value`, like `attributes`.
#[instrument_errors(metric_attributes = "GET")]
fn not_a_list() {}

// A key goes in one list: `metric_attributes` are on the span too.
#[instrument_errors(attributes("http.route" = "/a"), metric_attributes("http.route" = "/a"))]
fn twice() {}

// `parent` is an `opentelemetry::Context`.
#[instrument_errors(parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
fn parent_string() {}

// `links` is an iterator of `opentelemetry::trace::Link`.
#[instrument_errors(links = 3)]
fn links_number() {}

fn main() {
    not_a_list();
    twice();
    parent_string();
    links_number();
}
