//! Colors and emphasis, in one place so NO_COLOR can switch every color off.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
    /// The zone times are shown in (`u` switches it).
    pub zone: crate::tui::text::Zone,
}

impl Theme {
    pub fn colored() -> Theme {
        Theme {
            color: true,
            zone: crate::tui::text::Zone::Stored,
        }
    }

    /// No colors at all; emphasis (bold, reverse) still marks the cursor and headings.
    pub fn plain() -> Theme {
        Theme {
            color: false,
            zone: crate::tui::text::Zone::Stored,
        }
    }

    /// Honors <https://no-color.org>: set and non-empty means no color.
    pub fn from_env() -> Theme {
        match std::env::var_os("NO_COLOR") {
            Some(value) if !value.is_empty() => Theme::plain(),
            _ => Theme::colored(),
        }
    }

    pub fn uses_color(&self) -> bool {
        self.color
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn normal(&self) -> Style {
        Style::new()
    }

    pub fn muted(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn heading(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn border_focused(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// The cursor row of a pane without focus: still findable, plainly not where keys go.
    pub fn selected_unfocused(&self) -> Style {
        if self.color {
            Style::new().bg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        }
    }

    /// The title of the pane keys go to: reversed, so it shows without color too.
    pub fn title_focused(&self) -> Style {
        self.fg(Color::Cyan)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    pub fn added(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn removed(&self) -> Style {
        self.fg(Color::Red)
    }

    pub fn changed(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn hunk(&self) -> Style {
        self.fg(Color::Magenta)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warning(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn snapshot(&self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn mark(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn cursor(&self) -> Style {
        self.fg(Color::White)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
}
