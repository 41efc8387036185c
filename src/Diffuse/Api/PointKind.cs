using System.Globalization;
using System.Text;
using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Api;

/// <summary>Points [B, D] (the 2-D toy distributions): an MLP's <see cref="PointModel"/>, DDPM in fp32, samples as CSV or a scatter plot over fresh data.</summary>
internal sealed class PointKind : IDataKind
{
    public static PointKind Instance { get; } = new();

    public string Name => "points";

    public bool Recognises(ModelConfig config) => config.Data.Image is null;

    public long[] SampleShape(ModelConfig config) => [config.Data.Dim];

    public IDiffusionModel Load(string directory, bool useEma) => PointModel.Load(directory, useEma);

    public string DefaultSampler => Defaults.PointSampler;

    public Precision DefaultPrecision => Precision.Fp32;

    public IReadOnlyList<string> OutputExtensions { get; } = [".png", ".csv"];

    public bool TrainsOn(string data) => Toy2D.Names.Contains(data);

    /// <summary>The MLP on a toy distribution with <see cref="Defaults.PointTraining"/>; the scheduler does not clip (points are normalised to unit spread, so [-1, 1] would cut them).</summary>
    public TrainResult Train(TrainRequest request, IProgress<TrainProgress>? progress, Action<string>? log, CancellationToken cancel)
    {
        if (request.Resume) throw new DiffuseException("Resume continues image runs; a point run is short enough to run again");
        if (request.Conditioning != ConditioningKind.None) throw new DiffuseException("a model of points takes no classes or prompts");
        var template = TrainRequests.Template(request, Defaults.PointTraining, new MlpConfig(), clipSample: false);
        var outcome = PointTraining.TrainAndSave(request.Data, request.OutDir, template, request.Force, progress, cancel, log);
        return new TrainResult(outcome.Directory, template.Training.Steps, outcome.FinalLoss, null, outcome.Parameters, outcome.Elapsed, false);
    }

    /// <summary>Writes samples [n, 2] as a .csv (x,y rows) or a .png scatter plot over as many fresh points of the data (seed + 1).</summary>
    public string WriteSamples(Tensor samples, SampleOutput output)
    {
        var xs = samples.select(1, 0).data<float>().ToArray();
        var ys = samples.select(1, 1).data<float>().ToArray();
        string path = output.Path;
        if (output.Folder) throw new DiffuseException("points are written to one file (.csv or .png), not a folder");
        if (Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase))
        {
            var csv = new StringBuilder("x,y\n");
            for (int i = 0; i < xs.Length; i++)
                csv.Append(xs[i].ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(ys[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            AtomicFile.WriteAllText(path, csv.ToString());
        }
        else
        {
            string name = output.Config.Data.Name;
            using var dataGenerator = new torch.Generator((ulong)(output.Seed + 1));
            using var data = Toy2D.Sample(name, xs.Length, dataGenerator);
            var png = ScatterPlot.RenderPng(
            [
                new ScatterPlot.Layer(data.select(1, 0).data<float>().ToArray(), data.select(1, 1).data<float>().ToArray(), "data", "#9E9E9E"),
                new ScatterPlot.Layer(xs, ys, $"samples ({output.Label})", "#1565C0"),
            ], $"{name}: {xs.Length} samples");
            AtomicFile.WriteAllBytes(path, png);
        }
        return $"wrote {xs.Length} samples to {path}";
    }
}
