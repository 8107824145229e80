//! `weblist`: placeholder.
use super::disasm::AsmError;
use super::Report;
use crate::ui::Ui;

pub fn print_weblist(rpt: &mut Report, ui: &mut dyn Ui) -> Result<String, AsmError> {
    let _ = super::disasm::routines(rpt, ui, "weblist")?;
    Ok(String::new())
}
