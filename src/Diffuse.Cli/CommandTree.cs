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
            if (option is HelpOption { Action: HelpAction help } helpOption) helpOption.Action = new Help(help);
            if (option is VersionOption version) version.Action = new VersionAction();
        }
        Command[] commands =
        [
            new DemoCommand(), new TrainCommand(), new SampleCommand(), Eval(), new ExportCommand(), new TrainClassifierCommand(),
            new InpaintCommand(), new OutpaintCommand(), new Img2ImgCommand(), new UpscaleCommand(), new SamplersCommand(), new InfoCommand(),
        ];
        foreach (var command in commands) root.Subcommands.Add(command);
        // No command: the overview, and a usage error (one line on standard error, as every failure).
        root.SetAction(result =>
        {
            Help.Overview(root, result.InvocationConfiguration.Output);
            result.InvocationConfiguration.Error.WriteLine("error: no command given; the commands are listed above ('diffuse <command> --help' shows one's options)");
            return Cli.Usage;
        });
        return root;
    }

    /// <summary><c>eval</c>: the quality scores itself, and each other evaluation as a subcommand.</summary>
    static Command Eval()
    {
        var eval = new QualityCommand("eval");
        Command[] evaluations = [new QualityCommand("quality"), new NllCommand(), new InpaintEvalCommand(), new Img2ImgEvalCommand(), new SuperResEvalCommand(), new CascadeEvalCommand(), new CasEvalCommand()];
        foreach (var evaluation in evaluations) eval.Subcommands.Add(evaluation);
        return eval;
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

    /// <summary>
    /// <c>--help</c>: System.CommandLine's help of a command, wrapped to a fixed width; for the tool itself an overview that lists
    /// each command by its summary line.
    /// </summary>
    public sealed class Help(HelpAction help) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            if (parseResult.CommandResult.Command is RootCommand root)
            {
                Overview(root, parseResult.InvocationConfiguration.Output);
                return Cli.Ok;
            }
            help.MaxWidth = HelpWidth;
            return help.Invoke(parseResult);
        }

        public static void Overview(RootCommand root, TextWriter output)
        {
            output.WriteLine(root.Description);
            output.WriteLine();
            output.WriteLine("Usage: diffuse <command> [options]      (diffuse <command> --help: its options)");
            output.WriteLine();
            output.WriteLine("Commands:");
            foreach (var command in root.Subcommands)
                output.WriteLine($"  {command.Name,-17} {command.Description?.Split('\n')[0]}");
            output.WriteLine();
            output.WriteLine("Options of every command:");
            foreach (var option in root.Options)
            {
                string name = string.Join(", ", option.Aliases.Where(a => a.StartsWith('-')).Order().Append(option.Name).Distinct());
                string value = option.HelpName is { } help ? $" <{help}>" : "";
                output.WriteLine($"  {name + value,-26} {option.Description}");
            }
        }
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
