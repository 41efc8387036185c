using Spectre.Console;

namespace Diffuse.Cli;

/// <summary>A progress bar on standard error (so that standard output stays for results).</summary>
public static class ProgressDisplay
{
    static readonly IAnsiConsole Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });

    /// <summary>
    /// Runs <paramref name="work"/>, which reports (steps done, status text) through the callback it is given. With
    /// <paramref name="interruptible"/>, a report after Ctrl-C throws <see cref="OperationCanceledException"/> (the command
    /// stops there: "interrupted"); training passes false, since it stops at its own step with a checkpoint.
    /// </summary>
    public static T Run<T>(string title, int total, Func<Action<int, string>, T> work, bool interruptible = true)
    {
        if (interruptible)
        {
            var inner = work;
            work = report => inner((done, status) =>
            {
                Interrupt.ThrowIfRequested();
                report(done, status);
            });
            Interrupt.ThrowIfRequested();
        }
        if (!Console.Profile.Capabilities.Interactive)
        {
            // Logs (CI, redirects) get a line every 10% instead of a redrawn bar.
            int lastDecile = -1;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            return work((done, status) =>
            {
                int decile = (int)(10L * done / Math.Max(1, total));
                if (decile == lastDecile) return;
                lastDecile = decile;
                double elapsed = clock.Elapsed.TotalSeconds;
                string eta = done > 0 ? $"{elapsed * (total - done) / done:F0} s" : "?";
                System.Console.Error.WriteLine($"{title}: {done}/{total} {status} ({elapsed:F0} s, ETA {eta})");
            });
        }
        T result = default!;
        Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: total);
                result = work((done, status) =>
                {
                    task.Value = done;
                    task.Description = Markup.Escape($"{title} {status}");
                });
                task.Value = total;
            });
        return result;
    }
}
