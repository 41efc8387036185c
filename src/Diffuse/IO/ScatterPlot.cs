using ScottPlot;

namespace Diffuse.IO;

/// <summary>PNG scatter plots of 2-D point sets (through ScottPlot), e.g. samples drawn over the data.</summary>
public static class ScatterPlot
{
    /// <summary>One layer of points: its coordinates, legend label and colour (#RRGGBB).</summary>
    public sealed record Layer(float[] X, float[] Y, string Label, string ColorHex, float MarkerSize = 2f, double Alpha = 0.5);

    /// <summary>Renders the layers (first at the bottom) and returns the PNG bytes.</summary>
    public static byte[] RenderPng(IReadOnlyList<Layer> layers, string title, int width = 800, int height = 800)
    {
        var plot = new Plot();
        foreach (var layer in layers)
        {
            var points = plot.Add.ScatterPoints(Array.ConvertAll(layer.X, v => (double)v), Array.ConvertAll(layer.Y, v => (double)v));
            points.Color = Color.FromHex(layer.ColorHex).WithAlpha(layer.Alpha);
            points.MarkerSize = layer.MarkerSize;
            points.LegendText = layer.Label;
        }
        plot.Title(title);
        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }
}
