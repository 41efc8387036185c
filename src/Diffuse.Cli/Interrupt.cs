namespace Diffuse.Cli;

/// <summary>
/// Ctrl-C for the whole process: the first press asks the running command to stop (training writes a checkpoint at its
/// next step; every other command stops at its next progress report with "interrupted: nothing was written" and exit
/// 130); a second press ends the process at once. Installed by the program's entry point only, so in-process callers
/// (the tests) keep their own console.
/// </summary>
public static class Interrupt
{
    static readonly CancellationTokenSource Source = new();

    /// <summary>Cancelled on the first Ctrl-C.</summary>
    public static CancellationToken Token => Source.Token;

    public static void Install() => Console.CancelKeyPress += (_, e) =>
    {
        if (Source.IsCancellationRequested) return; // the second press: the default, the process ends now
        e.Cancel = true;
        Source.Cancel();
    };

    /// <summary>Throws <see cref="OperationCanceledException"/> once Ctrl-C was pressed (a command's progress reports call it).</summary>
    public static void ThrowIfRequested() => Source.Token.ThrowIfCancellationRequested();
}
