//! A macro for the small typed enums of the reports: known values as variants,
//! anything else kept verbatim in `Other`, never mapped to a wrong known value.

/// How a raw text matched one of an enum's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The canonical spelling, exactly.
    Exact,
    /// A known value after trimming and lower-casing (`Pass`, ` none `).
    Folded,
    /// A well-known non-standard synonym (`hardfail` for `fail`, `relaxed` for `r`).
    Alias,
    /// Not a known value: kept verbatim in `Other`.
    Unknown,
}

/// The enums of [`text_enum!`]: read leniently from text.
pub trait TextEnum<'a>: Sized {
    /// Reads a value and says how it matched.
    fn read(raw: std::borrow::Cow<'a, str>) -> (Self, Match);

    /// The canonical text, or the verbatim unknown value.
    fn text(&self) -> &str;
}

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($variant:ident => $text:literal $(| $alias:literal)*),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name<'a> {
            $(#[doc = concat!("`", $text, "`")] $variant,)+
            /// A value this version does not know, kept as the sender wrote it.
            Other(std::borrow::Cow<'a, str>),
        }

        impl<'a> $name<'a> {
            /// Every known value's canonical text.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The canonical text, or the verbatim unknown value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(s) => s,
                }
            }

            /// The value's number in the stores' `Enum8` columns: 1 + its
            /// position in [`Self::KNOWN`], or `KNOWN.len() + 1` for an
            /// unknown value (0 is left for "absent").
            pub fn code(&self) -> i8 {
                let mut n = 0i8;
                $(
                    n += 1;
                    if matches!(self, Self::$variant) {
                        return n;
                    }
                )+
                n + 1
            }

            /// Reads a value leniently and says how it matched.
            pub fn from_text(raw: std::borrow::Cow<'a, str>) -> (Self, $crate::Match) {
                match raw.as_ref() {
                    $($text => return (Self::$variant, $crate::Match::Exact),)+
                    _ => {}
                }
                let folded = raw.trim().to_ascii_lowercase();
                match folded.as_str() {
                    $($text => (Self::$variant, $crate::Match::Folded),)+
                    $($($alias => (Self::$variant, $crate::Match::Alias),)*)+
                    _ => (Self::Other(raw), $crate::Match::Unknown),
                }
            }

            /// Detaches the value from the buffer it borrows.
            pub fn into_owned(self) -> $name<'static> {
                match self {
                    $(Self::$variant => $name::$variant,)+
                    Self::Other(s) => $name::Other(std::borrow::Cow::Owned(s.into_owned())),
                }
            }
        }

        impl<'a> $crate::TextEnum<'a> for $name<'a> {
            fn read(raw: std::borrow::Cow<'a, str>) -> (Self, $crate::Match) {
                Self::from_text(raw)
            }

            fn text(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de, 'a> serde::Deserialize<'de> for $name<'a> {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Ok(Self::from_text(std::borrow::Cow::Owned(raw)).0)
            }
        }
    };
}

pub(crate) use text_enum;
