//! Entering and leaving the terminal's full-screen mode, on every exit path: normal return,
//! error (the guard's Drop) and panic (the hook).

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, OnceLock};
use std::thread::ThreadId;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Is the terminal in raw mode and the alternate screen, i.e. is there anything to restore?
static ENTERED: AtomicBool = AtomicBool::new(false);

/// The thread that draws: a panic anywhere else must not leave it drawing into a restored
/// terminal.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Owns the terminal while the UI runs; dropping it restores the terminal.
pub struct TerminalGuard {
    pub terminal: Tui,
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        let _ = UI_THREAD.set(std::thread::current().id());
        enable_raw_mode()?;
        ENTERED.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        if let Err(err) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(err);
        }
        let mut terminal = match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(terminal) => terminal,
            Err(err) => {
                restore();
                return Err(err);
            }
        };
        terminal.hide_cursor()?;
        terminal.clear()?;
        Ok(TerminalGuard { terminal })
    }
}

impl TerminalGuard {
    /// Gives the terminal back to the shell's ways for a while (another program, `$PAGER`,
    /// draws on it); [`TerminalGuard::resume`] takes it back.
    pub fn suspend(&mut self) {
        restore();
    }

    /// Full screen again after [`TerminalGuard::suspend`], redrawn from scratch.
    pub fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        ENTERED.store(true, Ordering::SeqCst);
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        self.terminal.hide_cursor()?;
        self.terminal.clear()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        let _ = self.terminal.show_cursor();
    }
}

/// Puts the terminal back the way a shell expects it. Only the first call after `enter` does
/// anything: leaving the alternate screen twice would move the cursor back to where the UI
/// started, and the shell would print over whatever came after the first (a panic message).
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Restores the terminal before the panic message prints, so it is readable. A panic on a
/// background thread (loader, input) while the UI runs ends the process after the message:
/// the UI thread would otherwise go on drawing into a terminal that is no longer raw.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ui_running = ENTERED.load(Ordering::SeqCst);
            restore();
            previous(info);
            let on_ui_thread = UI_THREAD.get() == Some(&std::thread::current().id());
            if ui_running && !on_ui_thread {
                std::process::exit(101);
            }
        }));
    });
}
