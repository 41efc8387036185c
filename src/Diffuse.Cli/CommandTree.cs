using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;
using Diffuse.Cli.Commands;

namespace Diffuse.Cli;

/// <summary>The root command: every command, the global options, help, <c>--version</c>, and how parse errors read.</summary>
public static class CommandTree
{
    /// <summary>The width help is wrapped to, whatever the terminal (and in tests).</summary>
    const int HelpWidth = 120;

    public static RootCommand Build(ComputeOptions compute)
    {
        var root = new RootCommand("diffuse: train, sample and evaluate diffusion models (TorchSharp)");
        root.Directives.Clear();
        root.Options.Add(compute.Threads);
        root.Options.Add(compute.Device);
        foreach (var option in root.Options)
        {
            if (option is HelpOption { Action: HelpAction help }) help.MaxWidth = HelpWidth;
            if (option is VersionOption version) version.Action = new VersionAction();
        }
        ICommand[] old =
        [
            new DemoCommand(), new TrainCommand(), new SampleCommand(), new EvalCommand(), new ExportCommand(), new TrainClassifierCommand(),
            new InpaintCommand(), new OutpaintCommand(), new Img2ImgCommand(), new UpscaleCommand(), new SamplersCommand(), new InfoCommand(),
        ];
        foreach (var command in old) root.Subcommands.Add(Wrap(command));
        // No command: the overview, and the usage exit code.
        root.SetAction(result =>
        {
            new HelpAction { MaxWidth = HelpWidth }.Invoke(result);
            return Cli.Usage;
        });
        return root;
    }

    /// <summary>A command of the old parser: its tokens pass through to it (until it is ported).</summary>
    static Command Wrap(ICommand old)
    {
        var command = new Command(old.Name, $"{old.Summary}\n\n{old.Help}") { TreatUnmatchedTokensAsErrors = false };
        command.SetAction(result => old.Run([.. result.UnmatchedTokens], result.InvocationConfiguration.Output));
        return command;
    }

    /// <summary>
    /// The tokens as System.CommandLine should see them: <c>--name=</c> (an empty inline value) becomes <c>--name ""</c>, which
    /// the option then refuses by name, and <c>diffuse help</c> is <c>diffuse --help</c>.
    /// </summary>
    public static string[] Normalize(string[] argv)
    {
        if (argv is ["help", .. var rest]) return ["--help", .. rest];
        var tokens = new List<string>(argv.Length);
        foreach (var token in argv)
        {
            if (token.StartsWith("--", StringComparison.Ordinal) && token.Length > 3 && token.EndsWith('=') && token.IndexOf('=') == token.Length - 1)
            {
                tokens.Add(token[..^1]);
                tokens.Add("");
            }
            else tokens.Add(token);
        }
        return [.. tokens];
    }

    /// <summary>The first parse error, in one line; an unknown word where a command belongs lists the commands.</summary>
    public static string Describe(ParseResult result)
    {
        if (result.CommandResult.Command is RootCommand root && result.UnmatchedTokens is [var first, ..] && !first.StartsWith('-'))
            return $"unknown command '{first}'; commands: {string.Join(", ", root.Subcommands.Select(c => c.Name))}";
        return result.Errors[0].Message.ReplaceLineEndings(" ");
    }

    /// <summary><c>--version</c>: the tool's version (the entry assembly is not ours under a test host).</summary>
    public sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var assembly = typeof(CommandTree).Assembly;
            string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "?";
            parseResult.InvocationConfiguration.Output.WriteLine($"diffuse {version}");
            return Cli.Ok;
        }
    }
}
