using System.CommandLine;

namespace Diffuse.Cli;

/// <summary><c>--cascade BASE,SR</c> and <c>--cond-noise S</c>: a base model and a super-resolution model run one after the other.</summary>
public sealed class CascadeOptions
{
    public Option<string[]?> Models { get; } = Opt.Parsed<string[]?>("--cascade",
        "a cascade (Ho et al. 2021): BASE (a model folder) samples low-resolution images, SR (a model of 'train --task superres' whose size is " +
        "BASE's x its scale) upscales them; both with --sampler and --steps", Parse, helpName: "BASE,SR");
    public Option<int> NoiseLevel { get; } = Common.CondNoise();

    public void AddTo(Command command) => command.AddOptions(Models, NoiseLevel);

    static string[]? Parse(string text)
    {
        var dirs = text.Split(',', StringSplitOptions.TrimEntries);
        if (dirs.Length != 2 || dirs.Any(string.IsNullOrEmpty))
            throw new UsageException($"--cascade takes two model folders separated by a comma, BASE,SR; got '{text}'");
        return dirs;
    }
}
