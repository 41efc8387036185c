using System.Globalization;
using System.Text;
using Diffuse.Data;
using Diffuse.IO;
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
        var a = Args.Parse(Name, argv, ["model", "n", "out", .. SamplerOptions.ValueNames], ["force"]);
        string modelDir = a.Require("model");
        string outFile = a.Require("out");
        string ext = Path.GetExtension(outFile).ToLowerInvariant();
        if (ext is not (".png" or ".csv")) throw new UsageException($"--out must end in .png or .csv, got '{outFile}'");
        if (Directory.Exists(outFile)) throw new UsageException($"--out '{outFile}' is a folder; give a file name ending in .png or .csv");
        if (File.Exists(outFile) && !a.Has("force")) throw new UsageException($"'{outFile}' already exists; pass --force to overwrite it");
        int n = a.Int("n", 2000, 1, 10_000_000);
        var options = SamplerOptions.From(a);

        using var model = PointModel.Load(modelDir, options.UseEma);
        using var generator = new torch.Generator((ulong)options.Seed);
        using var samples = options.Sample(model, n, generator);
        var xs = samples.select(1, 0).data<float>().ToArray();
        var ys = samples.select(1, 1).data<float>().ToArray();
        if (ext == ".csv")
        {
            var csv = new StringBuilder("x,y\n");
            for (int i = 0; i < xs.Length; i++)
                csv.Append(xs[i].ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(ys[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            AtomicFile.WriteAllText(outFile, csv.ToString());
        }
        else
        {
            using var dataGenerator = new torch.Generator((ulong)(options.Seed + 1));
            using var data = Toy2D.Sample(model.Config.Data.Name, n, dataGenerator);
            var png = ScatterPlot.RenderPng(
            [
                new ScatterPlot.Layer(data.select(1, 0).data<float>().ToArray(), data.select(1, 1).data<float>().ToArray(), "data", "#9E9E9E"),
                new ScatterPlot.Layer(xs, ys, $"samples ({options.Sampler}, {options.Steps} steps)", "#1565C0"),
            ], $"{model.Config.Data.Name}: {n} samples");
            AtomicFile.WriteAllBytes(outFile, png);
        }
        output.WriteLine($"wrote {n} samples to {outFile}");
        return Cli.Ok;
    }
}
