use instrument_errors::instrument_errors;

#[instrument_errors(name =)]
fn missing_value_at_end() {}

#[instrument_errors(name = , kind = client)]
fn missing_value() {}

#[instrument_errors(kind)]
fn missing_assignment() {}

#[instrument_errors(name = "a" kind = client)]
fn missing_comma() {}

#[instrument_errors(attributes(id = 1))]
fn attribute_key_not_a_string() {}

#[instrument_errors(attributes("id" 1))]
fn attribute_missing_equals() {}

#[instrument_errors(attributes = "id")]
fn attributes_assigned() {}

#[instrument_errors("name")]
fn bare_literal() {}

#[instrument_errors(description = "no")]
fn description_not_bool() {}

fn main() {
    missing_value_at_end();
    missing_value();
    missing_assignment();
    missing_comma();
    attribute_key_not_a_string();
    attribute_missing_equals();
    attributes_assigned();
    bare_literal();
    description_not_bool();
}
