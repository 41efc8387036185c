using Diffuse.Pipelines;
using TorchSharp;

namespace Diffuse.Cli.Commands;

public sealed class SampleCommand : ICommand
{
    public string Name => "sample";
    public string Summary => "draw samples from a trained model into a PNG scatter plot or a CSV file";
    public string Help => $"""
        diffuse sample --model runs/moons --n 2000 --out samples.png [options]

          --model DIR          a model folder written by 'diffuse train'
          --n N                number of samples (default 2000)
          --out FILE           .png (samples drawn over fresh data) or .csv (x,y rows)
        {SamplerOptions.HelpText}
          --force              overwrite --out if it exists
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, ["model", "n", "out", .. SamplerOptions.ValueNames], ["force", .. SamplerOptions.FlagNames]);
        string modelDir = a.Require("model");
        string outFile = a.Require("out");
        string ext = Path.GetExtension(outFile).ToLowerInvariant();
        if (ext is not (".png" or ".csv")) throw new UsageException($"--out must end in .png or .csv, got '{outFile}'");
        if (Directory.Exists(outFile)) throw new UsageException($"--out '{outFile}' is a folder; give a file name ending in .png or .csv");
        var outFolder = Path.GetDirectoryName(Path.GetFullPath(outFile));
        if (outFolder is not null && !Directory.Exists(outFolder)) throw new UsageException($"the folder of --out '{outFile}' does not exist; create it first");
        if (File.Exists(outFile) && !a.Has("force")) throw new UsageException($"'{outFile}' already exists; pass --force to overwrite it");
        int n = a.Int("n", 2000, 1, 10_000_000);
        var options = SamplerOptions.From(a);

        using var model = PointModel.Load(modelDir, options.UseEma);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var samples = options.Sample(model, n, generator);
        Outputs.WriteSamples(samples, model, options, outFile);
        output.WriteLine($"wrote {n} samples to {outFile}");
        return Cli.Ok;
    }
}
