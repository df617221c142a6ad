//! Colour arithmetic for white-labelling: the text colour readable on a brand colour (WCAG 2.x
//! relative luminance; docs/PANELS.md "White-labelling").

/// `#ffffff` or `#111827`, whichever has the higher contrast ratio on `hex` (`#rrggbb`);
/// `None` when `hex` is not a colour.
pub fn readable_on(hex: &str) -> Option<&'static str> {
    let l = luminance(hex)?;
    let on_white = 1.05 / (l + 0.05);
    let on_ink = (l + 0.05) / (luminance("#111827")? + 0.05);
    Some(if on_white >= on_ink { "#ffffff" } else { "#111827" })
}

fn luminance(hex: &str) -> Option<f64> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let channel = |i: usize| -> Option<f64> {
        let c = u8::from_str_radix(h.get(i..i + 2)?, 16).ok()? as f64 / 255.0;
        Some(if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

#[cfg(test)]
mod tests {
    use super::readable_on;

    #[test]
    fn dark_colours_get_white_text_and_light_ones_dark_text() {
        assert_eq!(readable_on("#0f766e"), Some("#ffffff"));
        assert_eq!(readable_on("#4338ca"), Some("#ffffff"));
        assert_eq!(readable_on("#fde047"), Some("#111827"));
        assert_eq!(readable_on("#ffffff"), Some("#111827"));
        assert_eq!(readable_on("teal"), None);
    }
}
